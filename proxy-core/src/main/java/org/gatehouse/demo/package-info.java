/** A tiny in-memory POP3, IMAP and SMTP server for {@code gatehouse demo} and the tests: one user, clearly a demo, never for real mail. */
package org.gatehouse.demo;
