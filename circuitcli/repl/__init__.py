"""`circuit repl`: the calculator as a conversation.

session.py holds the REPL's own circuit (text plus values) with undo and redo;
commands.py runs one line (a statement or a `:` command) against it; piped.py and
terminal.py are the two front ends (a script on stdin, or prompt_toolkit on a
terminal); complete.py is TAB completion. prompt_toolkit is imported by terminal.py
only, so no other command pays for it.
"""
