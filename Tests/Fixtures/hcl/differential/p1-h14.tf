a = [<<A, <<B]
x
A
y
B
