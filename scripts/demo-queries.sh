#!/bin/sh
# The example queries of the demo, sourced by scripts/demo.sh (local socket) and by
# scripts/vm/usb-demo.sh (inside the VM, over USB). Needs $cli (the cartridge CLI) and $connect
# (a cartridge URI: unix:/path or usb). POSIX sh: the VM has busybox only.
demo_queries() {
    echo "== cartridge info"
    "$cli" info --connect "$connect" || return 1
    echo
    echo "== cartridge search"
    "$cli" search "How do I reset my password?" \
        --document "To change your password, open Settings and choose Security." \
        --document "Our office is closed on public holidays." \
        --document "You can recover account access with the 'Forgot password' link." \
        --document "The cafeteria serves lunch from noon to two." \
        --document "Two-factor authentication adds a second step when you sign in." \
        --top 5 --connect "$connect" || return 1
    echo
    echo "== cartridge embed (cosine similarity matrix)"
    "$cli" embed "A cat sits on the mat." "A kitten is resting on a rug." "Stock markets fell sharply today." \
        "Shares dropped at the exchange." --connect "$connect" || return 1
}
