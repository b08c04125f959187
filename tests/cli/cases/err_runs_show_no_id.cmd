runs show
