"""Studio mode in the desktop window: the consent form, QR codes, delivery, the link to
the studio's cloud and its status. The kiosk screens reuse these widgets."""
