/** The login policy: which logins send a password in clear text, what to do with them, and the report of who did. */
package org.gatehouse.login;
