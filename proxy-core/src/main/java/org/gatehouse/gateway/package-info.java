/** Starting and stopping the gateway: event loops, transport, one listener per bound address, and the rules snapshot they read. */
package org.gatehouse.gateway;
