/** Connecting to a backend and relaying bytes both ways with backpressure, half-close and polite errors. */
package org.gatehouse.relay;
