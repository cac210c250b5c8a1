"""One MQTT 3.1.1 session with Debian's python3-paho-mqtt, driven by the interop test.

usage: paho-client.py HOST PORT CLIENT_ID USERNAME [TOPIC]
The password (a broker token) comes on stdin, never on the command line.
Prints one JSON line: {"connack": rc} when refused; with TOPIC, after CONNACK 0
it subscribes, publishes "hello from paho" at QoS 1 and waits for it:
{"connack": 0, "suback": [qos...], "received": {"topic": ..., "payload": ...}}.
"""
import json
import sys
import threading

import paho.mqtt.client as mqtt

TIMEOUT = 10

host, port, client_id, username = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
topic = sys.argv[5] if len(sys.argv) > 5 else None
password = sys.stdin.read().strip()

result = {}
connacked, subacked, received = threading.Event(), threading.Event(), threading.Event()


def on_connect(client, userdata, flags, rc):
    result["connack"] = rc
    connacked.set()


def on_subscribe(client, userdata, mid, granted_qos):
    result["suback"] = list(granted_qos)
    subacked.set()


def on_message(client, userdata, msg):
    result["received"] = {"topic": msg.topic, "payload": msg.payload.decode()}
    received.set()


client = mqtt.Client(client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311)
client.username_pw_set(username, password)
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
client.connect(host, port, keepalive=30)
client.loop_start()
try:
    if not connacked.wait(TIMEOUT):
        result["error"] = "no CONNACK"
    elif result["connack"] == 0 and topic is not None:
        client.subscribe(topic, qos=1)
        if not subacked.wait(TIMEOUT):
            result["error"] = "no SUBACK"
        else:
            client.publish(topic, "hello from paho", qos=1)
            if not received.wait(TIMEOUT):
                result["error"] = "message not received"
finally:
    client.disconnect()
    client.loop_stop()
print(json.dumps(result))
sys.exit(0 if "error" not in result else 1)
