measure --meter replay --idle 0 -- true
