/** Matching primitives the records are built from (IP literals, host names, address blocks and sets, domain sets); imports nothing else of the module. */
package org.gatehouse.rules.match;
