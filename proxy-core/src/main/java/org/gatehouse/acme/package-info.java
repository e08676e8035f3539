/** Certificates from an ACME CA: issuing and renewing them off the event loop, and answering the CA's challenges. */
package org.gatehouse.acme;
