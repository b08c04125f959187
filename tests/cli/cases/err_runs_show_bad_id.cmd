runs show abc
