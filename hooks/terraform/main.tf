# continuity's lifecycle hooks as a Terraform module: create-time runs `hook post-create`
# (restore the stack's newest snapshot into the new, empty database), destroy-time runs
# `hook pre-destroy` (fence, snapshot, verify). Only the built-in terraform_data resource is
# used: no provider to download.
#
# Make it depend on the database it guards (depends_on in the calling module), so it is
# created after the database and destroyed before it.

terraform {
  required_version = ">= 1.4" # terraform_data
}

variable "config" {
  description = "The continuity config file whose stacks: section names the stack."
  type        = string
}

variable "stack" {
  description = "The stack, as the config file names it."
  type        = string
}

variable "continuity" {
  description = "The continuity executable."
  type        = string
  default     = "continuity"
}

variable "deadline" {
  description = "How long pre-destroy may take before it gives up and blocks the destroy."
  type        = string
  default     = "10m"
}

variable "environment" {
  description = "Extra environment for both hooks (PGPASSFILE, AWS_* for an s3:// store). Not for secrets: it is kept in the state."
  type        = map(string)
  default     = {}
}

variable "triggers" {
  description = "Values whose change replaces the hooks (e.g. the database's id), so a new database gets post-create again."
  type        = any
  default     = null
}

resource "terraform_data" "continuity" {
  # A destroy-time provisioner may refer only to self: everything it needs goes through input.
  input = {
    continuity  = var.continuity
    config      = var.config
    stack       = var.stack
    deadline    = var.deadline
    environment = var.environment
  }
  triggers_replace = var.triggers

  provisioner "local-exec" {
    command = "exec \"$CONTINUITY\" hook post-create --config \"$CONTINUITY_CONFIG_FILE\" --stack \"$CONTINUITY_HOOK_STACK\""
    environment = merge(self.input.environment, {
      CONTINUITY             = self.input.continuity
      CONTINUITY_CONFIG_FILE = self.input.config
      CONTINUITY_HOOK_STACK  = self.input.stack
    })
  }

  # A failure (exit non-zero: the snapshot is not certain) fails the destroy and keeps this
  # resource, and so the database that depends on it, in the state.
  provisioner "local-exec" {
    when       = destroy
    on_failure = fail
    command    = "exec \"$CONTINUITY\" hook pre-destroy --config \"$CONTINUITY_CONFIG_FILE\" --stack \"$CONTINUITY_HOOK_STACK\" --deadline \"$CONTINUITY_DEADLINE\""
    environment = merge(self.input.environment, {
      CONTINUITY             = self.input.continuity
      CONTINUITY_CONFIG_FILE = self.input.config
      CONTINUITY_HOOK_STACK  = self.input.stack
      CONTINUITY_DEADLINE    = self.input.deadline
    })
  }
}

output "stack" {
  value = var.stack
}
