"""In-app notifications: what a teammate must know about (a detractor's complaint, a
late case), shown in the header and on /notifications until read."""
