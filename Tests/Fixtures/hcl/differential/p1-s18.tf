a = x. *
