"""What the `by_sender` index's projection costs, against DynamoDB Local
(AWS_ENDPOINT_URL_DYNAMODB): for messages of 100 bytes, 1 KB and 3 KB, the
write units of a send's transaction (the message and its pair's send side)
and the read units of one sender's 10 messages, with the index holding the
whole message beside it holding keys only (then read by key). Prints the
README's table ("What it costs"). Run by `bash scripts/projection_cost.sh`."""

import boto3

CLIENT = boto3.client("dynamodb")
SIZES = {"100 bytes": 100, "1 KB": 1024, "3 KB": 3000}
PROJECTIONS = {"the whole message": {"ProjectionType": "ALL"}, "keys only": {"ProjectionType": "KEYS_ONLY"}}


def index(name, sort, projection):
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": sort, "KeyType": "RANGE"}]
    return {"IndexName": name, "KeySchema": keys, "Projection": projection}


def create(table, projection):
    CLIENT.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "sender_ts", "timestamp")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        LocalSecondaryIndexes=[
            index("by_sender", "sender_ts", projection),
            index("by_time", "timestamp", {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["sender"]}),
        ],
    )


def send(table, timestamp, text):
    message = {
        "pk": {"S": "USER#bob"}, "sk": {"S": f"MSG#{timestamp}"}, "sender": {"S": "alice"},
        "recipient": {"S": "bob"}, "timestamp": {"S": timestamp}, "message": {"S": text},
        "sender_ts": {"S": f"alice#{timestamp}"},
    }
    send_side = {
        "TableName": table, "Key": {"pk": {"S": "USER#bob"}, "sk": {"S": "PAIR#alice"}},
        "UpdateExpression": "SET last_message_at = :ts", "ExpressionAttributeValues": {":ts": {"S": timestamp}},
    }
    reply = CLIENT.transact_write_items(
        ReturnConsumedCapacity="TOTAL",
        TransactItems=[
            {"Put": {"TableName": table, "Item": message, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": send_side},
        ],
    )
    return reply["ConsumedCapacity"][0]["CapacityUnits"]


def read_one_sender(table, whole):
    reply = CLIENT.query(
        TableName=table, IndexName="by_sender", ConsistentRead=True, ReturnConsumedCapacity="TOTAL",
        KeyConditionExpression="pk = :pk AND begins_with(sender_ts, :sender)",
        ExpressionAttributeValues={":pk": {"S": "USER#bob"}, ":sender": {"S": "alice#"}},
    )
    units = reply["ConsumedCapacity"]["CapacityUnits"]
    if not whole:
        keys = [{"pk": item["pk"], "sk": item["sk"]} for item in reply["Items"]]
        got = CLIENT.batch_get_item(
            ReturnConsumedCapacity="TOTAL", RequestItems={table: {"ConsistentRead": True, "Keys": keys}}
        )
        units += sum(consumed["CapacityUnits"] for consumed in got["ConsumedCapacity"])
    return units


print("| message | `by_sender` with " + " | `by_sender` ".join(PROJECTIONS) + " |")
print("|---|" + "---|" * len(PROJECTIONS))
for label, size in SIZES.items():
    cells = []
    for n, (projection, spec) in enumerate(PROJECTIONS.items()):
        table = f"projection-{size}-{n}"
        create(table, spec)
        written = [send(table, f"2026-01-01T00:00:00.{i:06d}Z", "m" * size) for i in range(10)]
        cells.append(f"{written[-1]:g} W; {read_one_sender(table, projection == 'the whole message'):g} R")
    print(f"| {label} | " + " | ".join(cells) + " |")
