"""Schedule expressions, analysis windows and the loop that turns fire times into executions."""
