/** The admin HTTP endpoint: Prometheus metrics, health and readiness, and reload on request. */
package org.gatehouse.admin;
