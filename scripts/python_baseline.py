"""The Python baseline of `make bench`: a Lambda function in Python 3 that
does the start-up work of ours with boto3 (create a DynamoDB client), then
serves events from the runtime API, each with the token lookup every
authenticated request starts with (one strongly consistent GetItem)."""

import json
import os
import urllib.request

import boto3

CLIENT = boto3.client("dynamodb")
TABLE = os.environ["TABLE_NAME"]
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"

while True:
    with urllib.request.urlopen(API + "next") as invocation:
        request_id = invocation.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.load(invocation)
    CLIENT.get_item(
        TableName=TABLE,
        Key={"pk": {"S": "TOKEN#none"}, "sk": {"S": "TOKEN"}},
        ConsistentRead=True,
    )
    body = json.dumps({"statusCode": 200, "body": "{}", "headers": {"content-type": "application/json"}})
    urllib.request.urlopen(urllib.request.Request(API + request_id + "/response", data=body.encode(), method="POST"))
