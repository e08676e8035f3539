/** The publishing rules as immutable, validated records: what each rule listens on, whom it admits and where it relays. */
package org.gatehouse.rules;
