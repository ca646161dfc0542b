# Written the way people write reviews: two spaces after a full stop, apostrophes, an HTML line break.
# The spec deletes punctuation (didn't → didnt, <br /> → br) and splits on every run of whitespace;
# split(' ') makes an empty word of the double space, and a tokenizer that turns punctuation into
# spaces makes "didn" and "t" of "didn't".
my_hard_case = "Didn't love it.  Won't re-order.<br />Stale!"
