/**
 * The mail protocols as the gateway reads them: the POP3, IMAP and SMTP inspectors (STARTTLS, capability lists, the
 * login policy, until login) and what each protocol says when the gateway must turn a client away.
 */
package org.gatehouse.mail;
