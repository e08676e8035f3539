/** The frontend pipeline of each accepted connection, assembled in the order drawn in {@link org.gatehouse.session.PipelineNames}. */
package org.gatehouse.frontend;
