"""The local cloud: template.yaml running on moto's server, for machines with no AWS account.

moto provides the AWS APIs (and executes the real ASL definitions). This package adds only what
moto lacks, each piece in its own module:

- ``template``: reads template.yaml and translates SAM with aws-sam-translator;
- ``provision``: creates the translated resources in moto (a small CloudFormation: intrinsics,
  dependency order, one creator per resource type);
- ``lambdas``: runs the handler template.yaml names, in-process, with the function's environment;
  it replaces moto's Docker-free Lambda ``invoke`` so Step Functions ``lambda:invoke`` tasks reach it;
- ``events``: delivers EventBridge rule matches (moto's own matcher) to Lambda and Step Functions
  targets, which moto cannot deliver to;
- ``alarms``: evaluates the template's alarms on the metrics published to moto (moto returns no
  percentiles and never fires alarms) and emits real-shaped ``CloudWatch Alarm State Change`` events.

Import :class:`sentinel_dev.local.cloud.LocalCloud` to use it. Dev-only: never shipped in the layer.
"""
