output "vm_service_accounts" {
  description = "The main and (with worker VMs) worker VMs' accounts: kind -> {email, member}."
  value = {
    for kind, account in google_service_account.vm : kind => {
      email  = account.email
      member = "serviceAccount:${account.email}"
    }
  }
}
