/** Reverse-DNS names of clients, forward-confirmed and cached, for the domain entries of access lists. */
package org.gatehouse.dns;
