# name: more requests in flight than the device allows get BUSY
connect
send HELLO id=1
expect HELLO_REPLY id=1 maximum_in_flight=16
# Sixteen open POWER subscriptions fill the connection; the seventeenth request is BUSY.
together
send POWER id=101 subscribe=1
send POWER id=102 subscribe=1
send POWER id=103 subscribe=1
send POWER id=104 subscribe=1
send POWER id=105 subscribe=1
send POWER id=106 subscribe=1
send POWER id=107 subscribe=1
send POWER id=108 subscribe=1
send POWER id=109 subscribe=1
send POWER id=110 subscribe=1
send POWER id=111 subscribe=1
send POWER id=112 subscribe=1
send POWER id=113 subscribe=1
send POWER id=114 subscribe=1
send POWER id=115 subscribe=1
send POWER id=116 subscribe=1
end
expect POWER_STATUS id=116
send INFO id=117
expect ERROR id=117 code=BUSY
# PING is not a request in flight: it is answered at once.
send PING id=118 data=hex:01
expect PONG id=118
expect POWER_STATUS id=101
send CANCEL id=101
expect DONE id=101 stop_reason=cancelled
send INFO id=117
expect MODEL_CARD id=117
