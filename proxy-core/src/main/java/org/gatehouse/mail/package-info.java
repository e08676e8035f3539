/** What each mail protocol says when the gateway must turn a client away. */
package org.gatehouse.mail;
