plot diagnostic --help
