/** Backend server pools at run time: which server a connection tries, health checks, and the PROXY protocol header. */
package org.gatehouse.backend;
