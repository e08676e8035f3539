/**
 * Reads a publishing-rules YAML file into {@link org.gatehouse.rules.PublishingRules}, one reader class per section of
 * the file, reporting every problem as file:line:column.
 */
package org.gatehouse.rules.load;
