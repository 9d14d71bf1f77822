# lock file
