package web

// portalTexts are the portal's words, merged into pageTexts at start. A
// test checks that every language has every key.
var portalTexts = map[string]map[string]string{
	"en": {
		"switch_account": "Switch account", "go": "Go", "profile": "Profile", "sections": "Sections",
		"users": "Users", "invitations": "Pending invitations", "bulk": "Bulk invite", "remote": "Remote monitoring",
		"clients": "Clients", "audit": "Audit log", "settings": "Settings", "roles": "Roles", "folders": "Folders",
		"client_users_counted": "client users", "add_user": "Add a user", "name": "Name", "username": "Username (e-mail)",
		"level": "Level", "status": "Status", "no_members": "No users yet.", "next_page": "Next page →",
		"level_integrator_admin": "Integrator administrator", "level_integrator_user": "Integrator user",
		"level_client_admin": "Administrator", "level_client_user": "User", "level_remote_monitoring": "Remote monitoring",
		"status_creating": "Creating", "status_activation_required": "Activation required", "status_active": "Active",
		"first_name": "First name", "last_name": "Last name", "username_hint": "The e-mail address the person signs in with. If it is already registered elsewhere, its names and language stay as they are.",
		"same_as_username": "Same as username", "notification_email": "E-mail address for notifications", "language": "Language",
		"user_type": "User type", "phone": "Mobile phone (with country code)", "phone_hint": "Start with + and the country code.",
		"sign_in_with": "Signs in with", "local_password": "A password (Gatehouse)", "home_folder": "Home folder", "none": "None",
		"notifications": "External notifications", "notify_enabled": "Enabled", "by_email": "By e-mail", "by_sms": "By SMS",
		"mfa_hint": "Administrators always sign in with a second factor; users may turn one on in their profile.",
		"photo":    "Photo (JPEG or PNG, up to 5 MiB)", "save_and_invite": "Save and send the invitation", "cancel": "Cancel",
		"user_added": "Added. The invitation e-mail is on its way to", "user_registered": "Added. They were already active and have been told by e-mail:",
		"email": "E-mail", "sent": "Sent", "expires": "Expires", "resend": "Resend", "cancel_invitation": "Cancel",
		"invitation_pending": "Pending", "invitation_expired": "Expired", "invitation_accepted": "Accepted", "invitation_cancelled": "Cancelled",
		"no_invitations": "No pending invitations.", "invitation_resent": "A new invitation was sent to", "invitation_cancelled_flash": "Invitation cancelled:",
		"bulk_title": "Invite many people from a CSV file", "bulk_intro": "One person per line, with a header line. The role and home folder columns are optional.",
		"csv_file": "CSV file", "preview": "Preview", "bulk_preview": "Preview", "confirm_invite": "Send the invitations",
		"start_over": "Start over", "inviting": "Inviting…", "refresh": "Refresh", "bulk_done": "Done. People invited:",
		"download_result": "Download the result (CSV)", "bulk_expired": "This preview has expired; upload the file again.",
		"line": "Line", "role": "Role", "outcome": "Outcome", "more_lines": "Only the first lines are shown; the result file has them all.",
		"outcome_invite": "Will be invited", "outcome_already_member": "Already a user", "outcome_invalid_email": "Invalid e-mail",
		"outcome_unknown_role": "Unknown role", "outcome_unknown_folder": "Unknown folder", "outcome_duplicate": "Duplicate",
		"outcome_over_limit": "Over the limit",
		"remote_intro":       "One remote monitoring user per site lets the integrator's monitoring station view and control its cameras.",
		"description":        "Description", "download_details": "Download connection details", "regenerate": "Generate new credentials",
		"regenerate_hint": "The old credentials stop working at once.", "create_remote": "Create the remote monitoring user",
		"remote_not_allowed": "No remote monitoring user yet. Ask your integrator to create one.",
		"remote_created":     "Remote monitoring user created.", "remote_regenerated": "New credentials made; download them now.",
		"search_clients": "Search clients by name", "search": "Search", "address": "Address", "no_clients": "No client accounts.",
		"integrator": "Integrator", "client": "Site", "qr_alt": "QR code of the key, for an authenticator app", "user_added_no_photo": "Added, but the photo was refused; add it from the profile:",
	},
	"fr": {
		"switch_account": "Changer de compte", "go": "Aller", "profile": "Profil", "sections": "Rubriques",
		"users": "Utilisateurs", "invitations": "Invitations en attente", "bulk": "Invitation groupée", "remote": "Télésurveillance",
		"clients": "Clients", "audit": "Journal d'audit", "settings": "Réglages", "roles": "Rôles", "folders": "Dossiers",
		"client_users_counted": "utilisateurs client", "add_user": "Ajouter un utilisateur", "name": "Nom", "username": "Identifiant (e-mail)",
		"level": "Niveau", "status": "État", "no_members": "Aucun utilisateur pour l'instant.", "next_page": "Page suivante →",
		"level_integrator_admin": "Administrateur intégrateur", "level_integrator_user": "Utilisateur intégrateur",
		"level_client_admin": "Administrateur", "level_client_user": "Utilisateur", "level_remote_monitoring": "Télésurveillance",
		"status_creating": "Création", "status_activation_required": "Activation requise", "status_active": "Actif",
		"first_name": "Prénom", "last_name": "Nom", "username_hint": "L'adresse e-mail avec laquelle la personne se connecte. Si elle est déjà enregistrée ailleurs, ses nom et langue restent inchangés.",
		"same_as_username": "Identique à l'identifiant", "notification_email": "Adresse e-mail des notifications", "language": "Langue",
		"user_type": "Type d'utilisateur", "phone": "Téléphone mobile (avec l'indicatif)", "phone_hint": "Commencez par + et l'indicatif du pays.",
		"sign_in_with": "Se connecte avec", "local_password": "Un mot de passe (Gatehouse)", "home_folder": "Dossier d'accueil", "none": "Aucun",
		"notifications": "Notifications externes", "notify_enabled": "Activées", "by_email": "Par e-mail", "by_sms": "Par SMS",
		"mfa_hint": "Les administrateurs se connectent toujours avec un second facteur ; les utilisateurs peuvent l'activer dans leur profil.",
		"photo":    "Photo (JPEG ou PNG, 5 Mio au plus)", "save_and_invite": "Enregistrer et envoyer l'invitation", "cancel": "Annuler",
		"user_added": "Ajouté. L'e-mail d'invitation part vers", "user_registered": "Ajouté. La personne était déjà active et a été prévenue par e-mail :",
		"email": "E-mail", "sent": "Envoyée", "expires": "Expire", "resend": "Renvoyer", "cancel_invitation": "Annuler",
		"invitation_pending": "En attente", "invitation_expired": "Expirée", "invitation_accepted": "Acceptée", "invitation_cancelled": "Annulée",
		"no_invitations": "Aucune invitation en attente.", "invitation_resent": "Une nouvelle invitation a été envoyée à", "invitation_cancelled_flash": "Invitation annulée :",
		"bulk_title": "Inviter plusieurs personnes depuis un fichier CSV", "bulk_intro": "Une personne par ligne, avec une ligne d'en-tête. Les colonnes rôle et dossier d'accueil sont facultatives.",
		"csv_file": "Fichier CSV", "preview": "Aperçu", "bulk_preview": "Aperçu", "confirm_invite": "Envoyer les invitations",
		"start_over": "Recommencer", "inviting": "Invitations en cours…", "refresh": "Actualiser", "bulk_done": "Terminé. Personnes invitées :",
		"download_result": "Télécharger le résultat (CSV)", "bulk_expired": "Cet aperçu a expiré ; envoyez de nouveau le fichier.",
		"line": "Ligne", "role": "Rôle", "outcome": "Résultat", "more_lines": "Seules les premières lignes sont affichées ; le fichier de résultat les contient toutes.",
		"outcome_invite": "Sera invité", "outcome_already_member": "Déjà utilisateur", "outcome_invalid_email": "E-mail invalide",
		"outcome_unknown_role": "Rôle inconnu", "outcome_unknown_folder": "Dossier inconnu", "outcome_duplicate": "Doublon",
		"outcome_over_limit": "Au-delà de la limite",
		"remote_intro":       "Un utilisateur de télésurveillance par site permet au centre de télésurveillance de l'intégrateur de voir et piloter ses caméras.",
		"description":        "Description", "download_details": "Télécharger les informations de connexion", "regenerate": "Générer de nouveaux identifiants",
		"regenerate_hint": "Les anciens identifiants cessent aussitôt de fonctionner.", "create_remote": "Créer l'utilisateur de télésurveillance",
		"remote_not_allowed": "Pas encore d'utilisateur de télésurveillance. Demandez à votre intégrateur d'en créer un.",
		"remote_created":     "Utilisateur de télésurveillance créé.", "remote_regenerated": "Nouveaux identifiants créés ; téléchargez-les maintenant.",
		"search_clients": "Rechercher un client par nom", "search": "Rechercher", "address": "Adresse", "no_clients": "Aucun compte client.",
		"integrator": "Intégrateur", "client": "Site", "qr_alt": "Code QR de la clé, pour une application d'authentification", "user_added_no_photo": "Ajouté, mais la photo a été refusée ; ajoutez-la depuis le profil :",
	},
}

func init() {
	for lang, texts := range portalTexts {
		for k, v := range texts {
			if _, taken := pageTexts[lang][k]; !taken {
				pageTexts[lang][k] = v
			}
		}
	}
}
