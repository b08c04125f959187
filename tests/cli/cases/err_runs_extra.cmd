runs list extra
