/** The gateway's Micrometer meters, named {@code gatehouse_<area>_<event>} and tagged by rule, never by client. */
package org.gatehouse.metrics;
