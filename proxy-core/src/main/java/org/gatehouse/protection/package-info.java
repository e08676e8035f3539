/**
 * Account protection: every login's outcome counted per client address and per user, failure replies delayed, and
 * addresses and users blocked before a backend's own lockout, in memory (Caffeine, saved in stateDir) or shared
 * through Redis.
 */
package org.gatehouse.protection;
