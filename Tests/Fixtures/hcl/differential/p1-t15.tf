a = "%{if x}%{endif}"
