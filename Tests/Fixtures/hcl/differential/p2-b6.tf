a { b c {} }
