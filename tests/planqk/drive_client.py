"""Drives a managed qmarket service with PlanQK's own client, unchanged
(planqk-service-sdk), and prints what it saw as one JSON object.

Usage: drive_client.py PLATFORM_URL SERVICE_ID CONSUMER_KEY CONSUMER_SECRET DOWNLOAD_DIR
"""

import json
import os
import sys
import time

from planqk.service.client import PlanqkServiceClient

base, service_id, key, secret, download_dir = sys.argv[1:6]
client = PlanqkServiceClient(
    f"{base}/gateway/{service_id}", key, secret, token_endpoint=f"{base}/oauth/token"
)
seen = {}

execution = client.run(request={"data": {"values": [1, 2, 3]}, "params": {"shots": 100}})
seen["started"] = {"id": execution.id, "status": execution.status}
execution.wait_for_final_state(timeout=180, wait=0.5)
seen["final"] = execution.status
result = execution.result()
seen["result"] = {"result": getattr(result, "result", None), "metadata": getattr(result, "metadata", None)}
files = execution.result_files()
seen["files"] = files
for name in files:
    execution.download_result_file(name, download_dir)
seen["downloaded"] = {
    name: open(os.path.join(download_dir, name)).read() for name in sorted(os.listdir(download_dir))
}
seen["logs"] = [{"message": entry.message, "severity": entry.severity} for entry in execution.logs()]

sleeper = client.run(request={"data": {"sleep": 60, "values": [1]}, "params": {}})
deadline = time.time() + 120
while sleeper.status != "RUNNING" and time.time() < deadline:
    time.sleep(0.2)
    sleeper.refresh()
seen["before_cancel"] = sleeper.status
sleeper.cancel()
sleeper.refresh()
seen["after_cancel"] = sleeper.status

seen["executions"] = [e.id for e in client.get_service_executions()]
print(json.dumps(seen))
