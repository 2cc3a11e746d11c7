"""Print card insertions and removals until the expected number of each was seen."""

import sys
import threading
import time

from smartcard.CardMonitoring import CardMonitor, CardObserver
from smartcard.util import toHexString

expected = int(sys.argv[1]) if len(sys.argv) > 1 else 1


class PrintObserver(CardObserver):
    def __init__(self):
        self.inserted = 0
        self.removed = 0
        self.done = threading.Event()

    def update(self, observable, actions):
        addedcards, removedcards = actions
        for card in addedcards:
            self.inserted += 1
            print("+Inserted:", toHexString(card.atr), "in", card.reader, flush=True)
        for card in removedcards:
            self.removed += 1
            print("-Removed:", toHexString(card.atr), "from", card.reader, flush=True)
        if self.inserted >= expected and self.removed >= expected:
            self.done.set()


cardmonitor = CardMonitor()
cardobserver = PrintObserver()
cardmonitor.addObserver(cardobserver)
print("monitoring", flush=True)
if not cardobserver.done.wait(30):
    sys.exit("timed out waiting for card events")
started = time.monotonic()
cardmonitor.deleteObserver(cardobserver)
print(f"stopped in {time.monotonic() - started:.3f} s", flush=True)
