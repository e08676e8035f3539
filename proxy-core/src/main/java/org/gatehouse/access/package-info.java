/** The gate that admits or refuses a client before any TLS byte is exchanged. */
package org.gatehouse.access;
