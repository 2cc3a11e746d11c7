# python-fido2's own PC/SC transport, unchanged: find the FIDO card, ask CTAP2 getInfo.
from fido2.ctap2 import Ctap2
from fido2.pcsc import CtapPcscDevice

devices = list(CtapPcscDevice.list_devices())
print(len(devices), devices[0])
info = Ctap2(devices[0]).get_info()
print(info.versions)
print(info.aaguid.hex())
print(info.options, info.max_msg_size)
