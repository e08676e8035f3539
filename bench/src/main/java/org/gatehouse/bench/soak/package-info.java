/** The soak: a running gateway under good and hostile traffic for a bounded time, sampled, plotted and judged. */
package org.gatehouse.bench.soak;
