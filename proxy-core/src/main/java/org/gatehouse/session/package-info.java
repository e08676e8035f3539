/** One client connection from accept to close: what happened to it, and the access-log line that reports it. */
package org.gatehouse.session;
