/** The {@code gatehouse} command line: run, check and demo. */
package org.gatehouse.cli;
