"""An offline stand-in for Telegram's Bot API: in process, or served over HTTP.

The local chat (``metatutor chat``) and the tests talk to the real application through it:
``api.FakeBotApi`` validates each call as Telegram would and records it, ``driver.ChatDriver``
runs whole conversations, and ``http_server.HttpBotApi`` serves the same fake on a socket.
"""
