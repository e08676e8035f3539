/**
 * The matching primitives the records are built from (IP literals, host names, address blocks and sets, domain sets),
 * importing nothing else of this module.
 */
package org.gatehouse.rules.match;
