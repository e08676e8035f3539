/** Address literals, CIDR blocks and the sorted-range sets that match a client address in logarithmic time. */
package org.gatehouse.rules.match;
