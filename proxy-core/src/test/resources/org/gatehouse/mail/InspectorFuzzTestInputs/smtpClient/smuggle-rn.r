?EHLO c
MAIL FROM:<a@b>
RCPT TO:<c@d>
DATA
Subject: x

hi
.AUTH PLAIN AGFsaWNlAHNlY3JldA==
MAIL FROM:<e@f>
RCPT TO:<c@d>
DATA
smuggled
.
