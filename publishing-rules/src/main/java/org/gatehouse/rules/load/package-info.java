/** Reads a publishing-rules YAML file into {@link org.gatehouse.rules.PublishingRules}, reporting every problem as file:line:column. */
package org.gatehouse.rules.load;
