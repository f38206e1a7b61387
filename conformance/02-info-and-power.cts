# name: INFO, POWER and POWER subscriptions
connect
send HELLO id=1
expect HELLO_REPLY id=1 version=1
send INFO id=2
expect MODEL_CARD id=2 name=* family=* architecture=* parameter_count=>=1 quantization=* vocabulary_size=>=1 tokenizer=* licence=*
send POWER id=3
expect POWER_STATUS id=3 source=* budget_mw=>=1 worker_count=>=0 max_power_ma=>=0
# A subscription answers at once, stays open, and ends with DONE(cancelled) after CANCEL.
send POWER id=4 subscribe=1
expect POWER_STATUS id=4 sequence=>=0
expect-nothing 200ms
send CANCEL id=4
expect DONE id=4 stop_reason=cancelled generated_tokens=0
# The id is free again.
send POWER id=4
expect POWER_STATUS id=4
