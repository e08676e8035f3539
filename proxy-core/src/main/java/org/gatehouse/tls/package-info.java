/** Certificates and keys (PEM via BouncyCastle, self-signed bootstrap), and the server SslContexts built from them at load time. */
package org.gatehouse.tls;
