measure --meter zeus -- true
