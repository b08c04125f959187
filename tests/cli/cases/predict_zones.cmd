predict --zone list
