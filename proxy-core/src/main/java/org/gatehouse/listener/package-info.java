/** The frontend pipeline of each accepted connection, assembled in the order drawn in {@link org.gatehouse.listener.PipelineNames}. */
package org.gatehouse.listener;
